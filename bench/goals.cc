// goals.cc - the goal reporter of the benchmark binaries (see goals.h).
//
// Layer: bench (C++ only).  Rule: figures come from this run alone, the
// median when there are repetitions; times are kept in nanoseconds
// whatever unit a benchmark reports in.

#include "goals.h"

#include <cstdio>

namespace {

double
to_ns(const benchmark::BenchmarkReporter::Run &r, double t)
{
	switch (r.time_unit) {
	case benchmark::kSecond:
		return t * 1e9;
	case benchmark::kMillisecond:
		return t * 1e6;
	case benchmark::kMicrosecond:
		return t * 1e3;
	default:
		return t;
	}
}

} // namespace

void
GoalReporter::ReportRuns(const std::vector<Run> &runs)
{
	ConsoleReporter::ReportRuns(runs);
	for (const Run &r : runs) {
		bool median = r.run_type == Run::RT_Aggregate &&
			      r.aggregate_name == "median";
		bool single = r.run_type == Run::RT_Iteration &&
			      r.repetitions <= 1;

		if (r.error_occurred || !(median || single))
			continue;
		Figure &f = figures_[r.run_name.function_name];

		f.real_ns = to_ns(r, r.GetAdjustedRealTime());
		f.cpu_ns = to_ns(r, r.GetAdjustedCPUTime());
		for (const auto &c : r.counters)
			f.counters[c.first] = c.second.value;
	}
}

void
GoalReporter::Finalize()
{
	ConsoleReporter::Finalize();
	std::fflush(stdout);
	summary_(*this);
	std::fflush(stdout);
}

const GoalReporter::Figure *
GoalReporter::figure(const std::string &name) const
{
	auto it = figures_.find(name);

	return it == figures_.end() ? nullptr : &it->second;
}

bool
GoalReporter::counter(const std::string &name, const std::string &counter,
		      double *v) const
{
	const Figure *f = figure(name);

	if (!f || !f->counters.count(counter))
		return false;
	*v = f->counters.at(counter);
	return true;
}

void
GoalReporter::line(const char *verdict, const std::string &what,
		   double value, const char *unit) const
{
	std::printf("  %-4s %-*s %9.*f %s\n", verdict, layout_.what_width,
		    what.c_str(), layout_.digits, value, unit);
}

void
GoalReporter::line(const char *verdict, const std::string &what,
		   double value, const char *unit, double cpu) const
{
	std::printf("  %-4s %-*s %9.*f %-2s (cpu %.*f)\n", verdict,
		    layout_.what_width, what.c_str(), layout_.digits, value,
		    unit, layout_.digits, cpu);
}
