// tests/main.cpp: doctest runner of distinv_tests (SingleProcess and Threads backends).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
