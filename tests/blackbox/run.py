"""Runs Podium's black-box suite: real podium-backend and podium-frontend
processes on loopback, driven only through the protos, from Python.

    /usr/bin/python3 tests/blackbox/run.py [--build=build] [--source=.]
        [-k PATTERN ...] [--strict] [--keep] [-q]

Use Debian's /usr/bin/python3 (python3-grpcio, python3-grpc-tools,
python3-protobuf): another python3 on PATH may not see those packages.
ctest runs it as blackbox_test (label multiprocess). Exit status 0 when
every test passed or failed as expected.

  -k PATTERN   only tests whose name contains PATTERN (as unittest's -k)
  --strict     ignore @unittest.expectedFailure markers, to see why each of
               those tests fails today
  --keep       keep each cluster's directory (logs, database) under /tmp
"""

import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    parser.add_argument("--source", default=os.path.join(HERE, "..", ".."))
    parser.add_argument("-k", dest="patterns", action="append", default=[])
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args()

    try:
        import grpc  # noqa: F401
        import grpc_tools  # noqa: F401
    except ImportError as e:
        sys.exit("blackbox: %s; run it with Debian's /usr/bin/python3 and "
                 "python3-grpcio python3-grpc-tools python3-protobuf installed "
                 "(scripts/lib.sh installs them)" % e)
    if not os.path.isdir(os.path.join(args.source, "protos", "podium", "v1")):
        sys.exit("blackbox: --source=%s holds no protos/podium/v1" % args.source)
    if not os.path.isdir(args.build):
        sys.exit("blackbox: --build=%s is no directory" % args.build)
    os.environ["PODIUM_BUILD"] = os.path.abspath(args.build)
    os.environ["PODIUM_SOURCE"] = os.path.abspath(args.source)
    if args.keep:
        os.environ["PODIUM_BLACKBOX_KEEP"] = "1"
    if args.strict:
        unittest.expectedFailure = lambda test: test
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, HERE)

    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = ["*%s*" % p for p in args.patterns]
    started = time.monotonic()
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=1 if args.quiet else 2).run(suite)
    print("blackbox: %d tests in %.1fs wall time (%d expected failures, %d skipped)"
          % (result.testsRun, time.monotonic() - started,
             len(result.expectedFailures), len(result.skipped)))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
