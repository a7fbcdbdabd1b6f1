// bench_main.h - what every benchmark binary's main() does around Google
// Benchmark: the colour choice and the run with the goal reporter
// (goals.h), given the binary's own summary of its goals.
//
// Layer: bench (C++ only).  Rule: every binary's main() ends in
// bench_run(); a missed goal is printed, never an exit status.
#ifndef CORSD_BENCH_MAIN_H
#define CORSD_BENCH_MAIN_H

#include <benchmark/benchmark.h>

#include <string>

#include <unistd.h>

#include "goals.h"

// A reporter given to RunSpecifiedBenchmarks() ignores --benchmark_color,
// so it is read here ("auto": colour on a tty).  Returns the exit status:
// 1 for arguments Google Benchmark does not know.
inline int
bench_run(int argc, char **argv, GoalReporter::Layout layout,
	  GoalReporter::Summary summary)
{
	bool color = isatty(STDOUT_FILENO);

	for (int i = 1; i < argc; i++) {
		std::string a = argv[i], k = "--benchmark_color=";

		if (a.rfind(k, 0) == 0) {
			std::string v = a.substr(k.size());

			if (v != "auto")
				color = v == "true" || v == "yes" || v == "1";
		}
	}
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	GoalReporter reporter(color ? benchmark::ConsoleReporter::OO_ColorTabular
				    : benchmark::ConsoleReporter::OO_Tabular,
			      layout, summary);
	benchmark::RunSpecifiedBenchmarks(&reporter);
	benchmark::Shutdown();
	return 0;
}

#endif
