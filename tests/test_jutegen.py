"""records.py is generated from the jute schema: the checked-in file must be exactly what the schema gives."""

from zoopark.core.jute import schema
from zoopark.tools import jutegen


def test_records_module_is_what_the_schema_generates():
    assert jutegen.RECORDS_PY.read_text(encoding="utf-8") == schema.render(), \
        "core/jute/records.py differs from core/jute/schema.py: run python -m zoopark.tools.jutegen"


def test_every_schema_record_is_in_the_module():
    from zoopark.core.jute import records
    for _, name, spec in schema.RECORDS:
        cls = getattr(records, name)
        assert list(cls.__dataclass_fields__) == [f.split()[0] for f in spec.split(",")]
