"""Helpers the maintainers' tests share: import them as ``support.<module>`` (pyproject's pytest ``pythonpath``
puts tests/ on sys.path). Test modules import from here, never from conftest.py or from each other."""
