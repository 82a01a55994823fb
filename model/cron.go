package model

import (
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // validate and interpret time zones the same everywhere

	"github.com/robfig/cron/v3"
)

// Schedule is a parsed cron expression.
type Schedule interface {
	// Next returns the first activation strictly after t, in the
	// schedule's time zone.
	Next(t time.Time) time.Time
}

// cronParser accepts 5 fields, 6 with seconds first, and descriptors
// (@hourly, @every 10m, ...).
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses expr read in loc: 5 fields (minute hour day-of-month
// month day-of-week), 6 with seconds first, or a descriptor such as
// "@hourly" or "@every 10m". The time zone is the trigger's timezone
// field, never a prefix of the expression: the cron library's TZ= and
// CRON_TZ= prefixes are refused (they also crash it on some inputs).
func ParseCron(expr string, loc *time.Location) (s Schedule, err error) {
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
	cs, err := cronParser.Parse(expr)
	if err != nil {
		return nil, err
	}
	// The library reads a zone only from such a prefix, and otherwise
	// uses the process's local zone: set the trigger's.
	if spec, ok := cs.(*cron.SpecSchedule); ok {
		spec.Location = loc
	}
	return cs, nil
}

// LoadLocation resolves a schedule's timezone: an IANA name. "Local" and
// "" are refused: they would mean different things on different nodes.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone name", name)
	}
	return time.LoadLocation(name)
}

// Schedule returns a schedule trigger's parsed cron expression and its
// time zone (DefaultTimezone when empty).
func (t Trigger) Schedule() (Schedule, *time.Location, error) {
	if t.Kind != KindSchedule {
		return nil, nil, fmt.Errorf("model: Schedule of a %s trigger", t.Kind)
	}
	tz := t.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	loc, err := LoadLocation(tz)
	if err != nil {
		return nil, nil, err
	}
	s, err := ParseCron(t.Cron, loc)
	if err != nil {
		return nil, nil, err
	}
	return s, loc, nil
}

// NextRun returns the first time after t at which a schedule trigger
// fires, read in its timezone. It fails for other kinds or an invalid
// trigger.
func (t Trigger) NextRun(after time.Time) (time.Time, error) {
	s, _, err := t.Schedule()
	if err != nil {
		return time.Time{}, err
	}
	return s.Next(after), nil
}
