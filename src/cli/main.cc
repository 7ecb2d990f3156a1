#include <cstdio>

int main() {
  std::puts("medseal: under construction");
  return 0;
}
