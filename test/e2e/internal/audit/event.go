// Package audit reads the API server's audit log (JSON lines of audit.k8s.io/v1 Events, as
// kube-apiserver writes them with --audit-log-format=json under k8s/cluster/audit-policy.yaml):
// who asked for what, and what refused it. The end-to-end tests find their own refused requests
// in it by audit ID, `make demo` summarises it, and the workshop queries it.
//
// The Event type is a small typed decoder of the fields this repository reads, named and shaped
// as in k8s.io/apiserver/pkg/apis/audit/v1 (that module would bring the API server's whole
// dependency tree into the test module for one struct).
package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The audit levels, lowest first.
const (
	LevelNone            = "None"
	LevelMetadata        = "Metadata"
	LevelRequest         = "Request"
	LevelRequestResponse = "RequestResponse"
)

// The stages an event is written at (RequestReceived is omitted by the policy). A request gives
// one ResponseComplete event; a long-running one (watch, exec, attach, port-forward, logs) also
// a ResponseStarted event when its answer starts, even a refusal.
const (
	StageResponseStarted  = "ResponseStarted"
	StageResponseComplete = "ResponseComplete"
)

// Event is one audit.k8s.io/v1 Event.
type Event struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Level      string `json:"level"`
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI"`
	Verb       string `json:"verb"`
	// User is who authenticated; ImpersonatedUser whom they acted as (kubectl --as).
	User             authnv1.UserInfo  `json:"user"`
	ImpersonatedUser *authnv1.UserInfo `json:"impersonatedUser,omitempty"`
	SourceIPs        []string          `json:"sourceIPs,omitempty"`
	UserAgent        string            `json:"userAgent,omitempty"`
	ObjectRef        *ObjectReference  `json:"objectRef,omitempty"`
	// ResponseStatus is the answer's status: its code always, and for a failure its reason
	// and message (which carries the refusal: Pod Security's violations, the denying
	// webhook's name and message, RBAC's "cannot <verb> ...").
	ResponseStatus *metav1.Status `json:"responseStatus,omitempty"`
	// RequestObject and ResponseObject are the bodies, at levels Request and RequestResponse.
	RequestObject            json.RawMessage   `json:"requestObject,omitempty"`
	ResponseObject           json.RawMessage   `json:"responseObject,omitempty"`
	RequestReceivedTimestamp metav1.MicroTime  `json:"requestReceivedTimestamp"`
	StageTimestamp           metav1.MicroTime  `json:"stageTimestamp"`
	Annotations              map[string]string `json:"annotations,omitempty"`
}

// ObjectReference is the object a resource request was about.
type ObjectReference struct {
	Resource        string `json:"resource,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIGroup        string `json:"apiGroup,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Subresource     string `json:"subresource,omitempty"`
}

// Code is the answer's HTTP status code (0 when the event has none, e.g. a watch starting).
func (e *Event) Code() int32 {
	if e.ResponseStatus == nil {
		return 0
	}
	return e.ResponseStatus.Code
}

// Scan calls fn with every event of an audit log, in order, and the line it was read from.
// It stops at the first error fn returns, and fails on a line that is not an audit.k8s.io/v1
// Event (with its line number, never its content: a line may hold anything a client sent).
func Scan(r io.Reader, fn func(line []byte, e *Event) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var e Event
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				return fmt.Errorf("audit log line %d: not a JSON event: %w", n, jerr)
			}
			if e.Kind != "Event" || e.APIVersion != "audit.k8s.io/v1" {
				return fmt.Errorf("audit log line %d: %s %s, want an audit.k8s.io/v1 Event", n, e.APIVersion, e.Kind)
			}
			if ferr := fn(line, &e); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the audit log: %w", err)
		}
	}
}

// Read returns every event of an audit log.
func Read(r io.Reader) ([]Event, error) {
	var out []Event
	err := Scan(r, func(_ []byte, e *Event) error {
		out = append(out, *e)
		return nil
	})
	return out, err
}

// ByID returns the events recorded under an audit ID (a request gives one per stage the
// policy keeps; a client may also send one ID with several requests).
func ByID(events []Event, id string) []Event {
	var out []Event
	for _, e := range events {
		if e.AuditID == id {
			out = append(out, e)
		}
	}
	return out
}
