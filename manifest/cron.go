package manifest

import (
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // validate and interpret time zones the same everywhere

	"github.com/robfig/cron/v3"
)

// cronParser accepts 5 fields, 6 with seconds first, and descriptors
// (@hourly, @every 10m, ...).
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseCron parses expr in loc. The time zone is the trigger's timezone
// field, never a prefix of the expression: the cron library's TZ= and
// CRON_TZ= prefixes are refused (they also crash it on some inputs).
func parseCron(expr string, loc *time.Location) (s cron.Schedule, err error) {
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, errors.New("set the time zone with the timezone field, not a TZ= prefix")
	}
	if d, ok := strings.CutPrefix(expr, "@every "); ok {
		// The library rounds down to whole seconds, and up to one second.
		if dur, err := time.ParseDuration(strings.TrimSpace(d)); err == nil && (dur < time.Second || dur%time.Second != 0) {
			return nil, fmt.Errorf("@every takes a whole number of seconds, at least 1s, not %s", strings.TrimSpace(d))
		}
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("unparsable: %v", r)
		}
	}()
	s, err = cronParser.Parse(expr)
	if err != nil {
		return nil, err
	}
	// The library reads a zone only from such a prefix, and otherwise
	// uses the process's local zone: set the trigger's.
	if spec, ok := s.(*cron.SpecSchedule); ok {
		spec.Location = loc
	}
	return s, nil
}

// loadLocation resolves a schedule's timezone: an IANA name. "Local" is
// refused: it would mean different things on different nodes.
func loadLocation(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone name", name)
	}
	return time.LoadLocation(name)
}

// NextRun returns the first time after t at which a schedule trigger
// fires, read in its timezone. It fails for other kinds or an invalid
// trigger (which validation rules out).
func (t Trigger) NextRun(after time.Time) (time.Time, error) {
	if t.Kind != KindSchedule {
		return time.Time{}, fmt.Errorf("manifest: NextRun on a %s trigger", t.Kind)
	}
	tz := t.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	loc, err := loadLocation(tz)
	if err != nil {
		return time.Time{}, err
	}
	s, err := parseCron(t.Cron, loc)
	if err != nil {
		return time.Time{}, err
	}
	return s.Next(after), nil
}
