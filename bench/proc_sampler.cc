// proc_sampler.cc - CPU use of a process from /proc (see proc_sampler.h).
//
// Layer: bench (C++), Linux /proc only.  Rule: fields of /proc/PID/stat
// are counted after the last ')', since the command name may hold spaces
// and parentheses.

#include "proc_sampler.h"

#include <cstdio>
#include <cstring>

#include <dirent.h>

bool
proc_cpu_sample(pid_t pid, ProcCpu *c)
{
	char path[320], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	DIR *dir;
	struct dirent *de;

	std::snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = std::fopen(path, "r")))
		return false;
	p = std::fgets(buf, sizeof(buf), f);
	std::fclose(f);
	// Fields 14 and 15, counted after the ')' that ends field 2.
	if (!p || !(p = std::strrchr(buf, ')')) ||
	    std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			       "%llu %llu",
			&ut, &st) != 2)
		return false;
	c->ticks = (double)(ut + st);
	c->run_ns = c->switches = 0;
	std::snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(dir = opendir(path)))
		return false;
	while ((de = readdir(dir))) {
		unsigned long long run, v;
		char line[256];

		if (de->d_name[0] == '.')
			continue;
		std::snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat",
			      (int)pid, de->d_name);
		if ((f = std::fopen(path, "r"))) {
			if (std::fscanf(f, "%llu", &run) == 1)
				c->run_ns += (double)run;
			std::fclose(f);
		}
		std::snprintf(path, sizeof(path), "/proc/%d/task/%s/status",
			      (int)pid, de->d_name);
		if ((f = std::fopen(path, "r"))) {
			while (std::fgets(line, sizeof(line), f))
				if (std::sscanf(line,
						"voluntary_ctxt_switches: %llu",
						&v) == 1 ||
				    std::sscanf(line,
						"nonvoluntary_ctxt_switches: "
						"%llu",
						&v) == 1)
					c->switches += (double)v;
			std::fclose(f);
		}
	}
	closedir(dir);
	return true;
}
