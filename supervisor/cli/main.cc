// clawjail-supervisor: every subcommand. Users type `clawjail`, whose thin front (supervisor/client/main.cc)
// handles the per-call commands itself and executes this binary for all the others.
#include "supervisor/common/commands.h"

int main(int argc, char** argv) { return clawjail::cli::run_app(argc, argv); }
