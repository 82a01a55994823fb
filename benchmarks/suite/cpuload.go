package suite

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuSnapshot is the machine's and this process tree's CPU time at one
// moment, in clock ticks (USER_HZ, 100 per second on Linux).
type cpuSnapshot struct {
	at    time.Time
	busy  int64 // every CPU's non-idle time: user, nice, system, irq, softirq, steal
	steal int64 // time the hypervisor gave to other guests
	own   int64 // this process and its reaped children (servers, builds)
	cpus  int   // the machine's CPUs (cpuN lines of /proc/stat)
}

// clockTicks is USER_HZ: the unit of /proc/stat and /proc/<pid>/stat.
const clockTicks = 100

// takeCPU reads /proc/stat and /proc/self/stat.
func takeCPU() (cpuSnapshot, error) {
	s := cpuSnapshot{at: time.Now()}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s, err
	}
	if s.busy, s.steal, s.cpus, err = parseProcStat(string(stat)); err != nil {
		return s, err
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return s, err
	}
	s.own, err = parseSelfStat(string(self))
	return s, err
}

// parseProcStat sums the busy fields of the "cpu" line of /proc/stat and
// counts the per-CPU lines.
func parseProcStat(stat string) (busy, steal int64, cpus int, err error) {
	found := false
	for _, line := range strings.Split(stat, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && len(f[0]) > 3 && strings.HasPrefix(f[0], "cpu") && f[0][3] >= '0' && f[0][3] <= '9' {
			cpus++
			continue
		}
		if len(f) < 9 || f[0] != "cpu" {
			continue
		}
		var v [8]int64
		for i := range v {
			if v[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
				return 0, 0, 0, fmt.Errorf("suite: /proc/stat: %w", err)
			}
		}
		// user nice system idle iowait irq softirq steal
		busy, steal, found = v[0]+v[1]+v[2]+v[5]+v[6]+v[7], v[7], true
	}
	if !found {
		return 0, 0, 0, fmt.Errorf("suite: no cpu line in /proc/stat")
	}
	return busy, steal, cpus, nil
}

// parseSelfStat returns utime+stime+cutime+cstime of a /proc/<pid>/stat
// line: the CPU time of the process and of its reaped children.
func parseSelfStat(stat string) (int64, error) {
	own, children, err := parseStatTimes(stat)
	return own + children, err
}

// parseStatTimes returns utime+stime and cutime+cstime of a
// /proc/<pid>/stat line.
func parseStatTimes(stat string) (own, children int64, err error) {
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("suite: odd /proc/self/stat")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime..cstime are fields 14..17.
	if len(f) < 15 {
		return 0, 0, fmt.Errorf("suite: short /proc/self/stat")
	}
	var v [4]int64
	for j, s := range f[11:15] {
		if v[j], err = strconv.ParseInt(s, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("suite: /proc/self/stat: %w", err)
		}
	}
	return v[0] + v[1], v[2] + v[3], nil
}

// selfCPU returns this process's own CPU time (children not included).
func selfCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	own, _, err := parseStatTimes(string(b))
	return time.Duration(own) * time.Second / clockTicks, err
}

// foreignLoad describes the CPU time other processes (and, in a virtual
// machine, other guests) took between a and b, as CPUs busy on average;
// children of this process count as its own once they were reaped.
func foreignLoad(a, b cpuSnapshot) (others, steal float64) {
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return 0, 0
	}
	others = float64((b.busy-a.busy)-(b.own-a.own)-(b.steal-a.steal)) / clockTicks / secs
	steal = float64(b.steal-a.steal) / clockTicks / secs
	return max(others, 0), max(steal, 0)
}
