// `medsearch collection ...`: research collections on the command line
// (docs/collections.md). medsearch's main hands over when its first argument
// is "collection".
#pragma once

namespace medsearch::cli {

// Runs `medsearch collection ARGS...`; argv[0] is "collection". Returns the
// exit status (0 ok, 1 failure, 2 usage or bad input); throws only what
// cli::run turns into one line on stderr.
int run_collection_command(int argc, char** argv);

}  // namespace medsearch::cli
