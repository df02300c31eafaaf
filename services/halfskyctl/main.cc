// halfskyctl: the command-line client of halfsky.
#include <iostream>
#include <string>
#include <vector>

#include "services/halfskyctl/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return halfsky::RunHalfskyctl(args, std::cout, std::cerr);
}
