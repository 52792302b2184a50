"""EMR Serverless entry point (the job's `entryPoint`): the package travels in the job's Python environment
(infra/spark/README.md), so this file only hands over to it."""

import sys

from dsa_report.app.spark_job import main

if __name__ == "__main__":
    sys.exit(main())
