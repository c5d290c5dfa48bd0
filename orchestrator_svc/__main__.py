from lmw_common.runtime import main
from orchestrator_svc.bootstrap import bootstrap, migrate
from orchestrator_svc.config import OrchestratorSettings

if __name__ == "__main__":
    main("orchestrator_svc", OrchestratorSettings, bootstrap, migrate)
