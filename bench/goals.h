// goals.h - the one reporter of the benchmark binaries: Google Benchmark's
// console table, then the binary's goals judged on figures of that same
// run.
//
// Layer: bench (C++ only).  The reporter keeps the figures; each binary
// hands it a summary that picks its goals from them and prints each one
// with line().  Rule: a figure is the median over repetitions, or the one
// run when there is one; a run that ended in an error gives none, and a
// goal whose figure is missing is left out, never judged.
#ifndef CORSD_BENCH_GOALS_H
#define CORSD_BENCH_GOALS_H

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

class GoalReporter : public benchmark::ConsoleReporter {
public:
	// One benchmark's figures: real and CPU time per iteration in ns,
	// and its user counters as reported.
	struct Figure {
		double real_ns;
		double cpu_ns;
		std::map<std::string, double> counters;
	};

	// How the summary's lines are laid out: the width of a goal's text
	// and the digits after the point of its figure.
	struct Layout {
		int what_width;
		int digits;
	};

	// Prints the goals after the table, from the reporter's figures.
	using Summary = void (*)(const GoalReporter &);

	GoalReporter(OutputOptions opts, Layout layout, Summary summary)
		: ConsoleReporter(opts), layout_(layout), summary_(summary)
	{
	}

	void ReportRuns(const std::vector<Run> &runs) override;
	void Finalize() override;

	// @name's figures (the function name, without "/manual_time"), or
	// NULL when this run has none.
	const Figure *figure(const std::string &name) const;

	// @name's counter @counter into *@v; false when this run has none.
	bool counter(const std::string &name, const std::string &counter,
		     double *v) const;

	// One line of the summary: @verdict is verdict(), or "" for a figure
	// shown beside the goals; @cpu, when given, follows the unit.
	void line(const char *verdict, const std::string &what, double value,
		  const char *unit) const;
	void line(const char *verdict, const std::string &what, double value,
		  const char *unit, double cpu) const;

	static const char *verdict(bool met) { return met ? "met" : "MISS"; }

private:
	Layout layout_;
	Summary summary_;
	std::map<std::string, Figure> figures_;
};

#endif
