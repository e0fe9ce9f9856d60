import types

import nbprod
from nbprod import errors


def test_all_is_complete_and_importable():
    public = {
        name for name in dir(nbprod)
        if not name.startswith("_") and not isinstance(getattr(nbprod, name), types.ModuleType)
    }
    assert set(nbprod.__all__) == public
    for name in nbprod.__all__:
        assert getattr(nbprod, name) is not None


def test_every_error_derives_from_the_one_root():
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), nbprod.NbprodError)
