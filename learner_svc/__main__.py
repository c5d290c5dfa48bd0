from learner_svc.bootstrap import bootstrap, migrate
from learner_svc.config import LearnerSettings
from lmw_common.runtime import main

if __name__ == "__main__":
    main("learner_svc", LearnerSettings, bootstrap, migrate)
