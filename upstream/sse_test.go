package upstream

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func readAll(t *testing.T, r *SSEReader) []Event {
	t.Helper()
	var evs []Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return evs
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		evs = append(evs, Event{Name: ev.Name, Data: append([]byte(nil), ev.Data...)})
	}
}

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Event
	}{
		{"data lines and done", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []Event{{Data: []byte(`{"a":1}`)}, {Data: []byte("[DONE]")}}},
		{"ping comments skipped", ": PING\n\ndata: x\n\n: PING\n\n", []Event{{Data: []byte("x")}}},
		{"event names", "event: message_start\ndata: {}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", []Event{{Name: "message_start", Data: []byte("{}")}, {Name: "message_stop", Data: []byte(`{"type":"message_stop"}`)}}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []Event{{Data: []byte("a")}, {Data: []byte("b")}}},
		{"multi-line data joined", "data: a\ndata: b\n\n", []Event{{Data: []byte("a\nb")}}},
		{"no space after colon", "data:x\n\n", []Event{{Data: []byte("x")}}},
		{"bare JSON line is data", "{\"error\":{\"message\":\"m\"}}", []Event{{Data: []byte(`{"error":{"message":"m"}}`)}}},
		{"last event without blank line", "data: a\n\ndata: [DONE]", []Event{{Data: []byte("a")}, {Data: []byte("[DONE]")}}},
		{"id and retry ignored", "id: 7\nretry: 100\ndata: a\n\n", []Event{{Data: []byte("a")}}},
		{"empty input", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, NewSSEReader(strings.NewReader(tt.in)))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d events %q; want %d %q", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if got[i].Name != tt.want[i].Name || string(got[i].Data) != string(tt.want[i].Data) {
					t.Errorf("event %d = {%q %q}; want {%q %q}", i, got[i].Name, got[i].Data, tt.want[i].Name, tt.want[i].Data)
				}
			}
		})
	}
}

func TestSSEReaderLongLines(t *testing.T) {
	big := strings.Repeat("A", 300<<10) // longer than the bufio buffer: a base64 image in one line
	got := readAll(t, NewSSEReader(strings.NewReader("data: "+big+"\n\n")))
	if len(got) != 1 || len(got[0].Data) != len(big) {
		t.Fatalf("got %d events; want one event of %d bytes", len(got), len(big))
	}
	r := NewSSEReader(strings.NewReader("data: " + big + "\n\n"))
	r.maxLine = 1 << 10
	if _, err := r.Next(); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("Next with a line over the limit = %v; want ErrLineTooLong", err)
	}
}
