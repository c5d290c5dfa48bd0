from instructor_svc.bootstrap import bootstrap, migrate
from instructor_svc.config import InstructorSettings
from lmw_common.runtime import main

if __name__ == "__main__":
    main("instructor_svc", InstructorSettings, bootstrap, migrate)
