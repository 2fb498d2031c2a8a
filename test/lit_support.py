"""What the lit.local.cfg files share (lit.cfg.py puts this folder on sys.path)."""
import os


def missing_dependency(lit_config, what):
    """The tests of a folder need `what`, which is missing: under CI=true the
    run fails; elsewhere they are unsupported, with the reason printed.
    Returns True, for `config.unsupported`."""
    if os.environ.get("CI") == "true":
        lit_config.fatal(f"{what}; under CI=true its tests fail instead of turning "
                         "unsupported")
    lit_config.note(f"{what}: its tests are unsupported")
    return True
