package cosign

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Statement is an in-toto statement as `cosign verify-attestation` returns it, verified.
type Statement struct {
	Type    string `json:"_type"`
	Subject []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// BuilderID is a SLSA v1 provenance's runDetails.builder.id ("" when it has none).
func (s Statement) BuilderID() string {
	var p struct {
		RunDetails struct {
			Builder struct {
				ID string `json:"id"`
			} `json:"builder"`
		} `json:"runDetails"`
	}
	if err := json.Unmarshal(s.Predicate, &p); err != nil {
		return ""
	}
	return p.RunDetails.Builder.ID
}

// Statements reads what `cosign verify-attestation` prints: one DSSE envelope per line whose
// payload is the statement (base64).
func Statements(out []byte) ([]Statement, error) {
	var stmts []Statement
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var env struct {
			PayloadType string `json:"payloadType"`
			Payload     string `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &env); err != nil {
			return nil, fmt.Errorf("read cosign verify-attestation output: %w", err)
		}
		raw, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			return nil, fmt.Errorf("decode an attestation's payload: %w", err)
		}
		var s Statement
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("read an attestation's statement: %w", err)
		}
		stmts = append(stmts, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read cosign verify-attestation output: %w", err)
	}
	if len(stmts) == 0 {
		return nil, errors.New("cosign verify-attestation printed no attestation")
	}
	return stmts, nil
}

// In-toto statement types cosign writes (v3.1 still writes v0.1 for `cosign attest`; the two
// differ in nothing this checks).
var statementTypes = map[string]bool{"https://in-toto.io/Statement/v0.1": true, "https://in-toto.io/Statement/v1": true}

// CheckStatements checks that every statement is an in-toto statement of predicateType about
// exactly the image digest (sha256:...).
func CheckStatements(stmts []Statement, digest, predicateType string) error {
	hex := strings.TrimPrefix(digest, "sha256:")
	for _, s := range stmts {
		if !statementTypes[s.Type] {
			return fmt.Errorf("attestation statement type %q, want an in-toto statement", s.Type)
		}
		if s.PredicateType != predicateType {
			return fmt.Errorf("attestation predicate type %q, want %q", s.PredicateType, predicateType)
		}
		if len(s.Subject) != 1 || s.Subject[0].Digest["sha256"] != hex {
			return fmt.Errorf("attestation subject %+v, want exactly the image %s", s.Subject, digest)
		}
	}
	return nil
}
