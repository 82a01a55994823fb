package model

import "testing"

func TestTriggerValidate(t *testing.T) {
	good := []Trigger{
		{Kind: "kv", Namespace: "chat", Prefix: "msg/"},
		{Kind: "upload", Bucket: "images"},
		{Kind: "schedule", Cron: "*/5 * * * *"},
		{Kind: "schedule", Cron: "* * * * * *", Timezone: "UTC"},
		{Kind: "schedule", Cron: "@hourly"},
		{Kind: "queue", Queue: "jobs", BatchSize: 10, MaxAttempts: 5},
	}
	for _, tr := range good {
		if err := tr.Validate(); err != nil {
			t.Errorf("%+v: %v", tr, err)
		}
	}
	bad := []Trigger{
		{Kind: "carrier-pigeon"},
		{Kind: "upload"},
		{Kind: "schedule", Cron: "not cron"},
		{Kind: "schedule", Cron: "* * * * *", Timezone: "Mars/Olympus"},
		{Kind: "queue", Queue: "bad name"},
		{Kind: "queue", Queue: "q", BatchSize: 1000},
		{Kind: "kv", Namespace: "bad ns"},
		{Kind: "kv", MaxAttempts: -1},
		{Kind: "kv", Namespace: ".."},
		{Kind: "schedule", Cron: "TZ=UTC * * * * *"},
		{Kind: "schedule", Cron: "* * * * *", Timezone: "Local"},
		{Kind: "schedule", Cron: "@every 1500ms"},
	}
	for _, tr := range bad {
		if err := tr.Validate(); err == nil {
			t.Errorf("%+v accepted", tr)
		}
	}
}
