from lmw_common.runtime import main
from sme_svc.bootstrap import bootstrap
from sme_svc.config import SmeSettings

if __name__ == "__main__":
    main("sme_svc", SmeSettings, bootstrap)
