"""The ``minidl`` command (also ``python -m minidl``).

Each subcommand is one function that takes the parsed arguments and returns an exit code, plus one
block in ``build_parser`` that declares its arguments. To add ``minidl train``: write
``run_train(args)`` and add its parser block next to the others.
"""
import argparse
import sys


# ---------------------------------------------------------------------------------------------
# Subcommands. Their imports are inside the functions, so that `minidl --help` stays instant and
# a problem in one command's code cannot break the others.

def run_doctor(args):
    from .doctor import doctor

    doctor()
    return 0


# ---------------------------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(
        prog="minidl", description="minidl: a deep-learning framework written to be read.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    # minidl doctor
    doctor = commands.add_parser("doctor", help="show what was built and what this machine offers",
                                 description="Show the build (C++/CUDA modules, SIMD, threads) "
                                             "and the devices minidl can use.")
    doctor.set_defaults(run=run_doctor)

    return parser


def main(argv=None):
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):  # no subcommand: show what there is, and fail like a usage error
        parser.print_help(sys.stderr)
        return 2
    return args.run(args)
