package redact

import (
	"strings"
	"testing"
)

func TestStringMasksEveryShapeOfSecret(t *testing.T) {
	const s = "hunter2"
	tests := []struct{ name, in, want string }{
		{"url password", "postgres://app:hunter2@db:5432/app", "postgres://app:xxxxx@db:5432/app"},
		{"postgresql scheme", "postgresql://app:hunter2@db/app", "postgresql://app:xxxxx@db/app"},
		{"other scheme", "https://u:hunter2@example.com/x", "https://u:xxxxx@example.com/x"},
		{"password with @ and /", "postgres://app:hun/ter@2@db/app", "postgres://app:xxxxx@db/app"},
		{"empty user", "postgres://:hunter2@db/app", "postgres://:xxxxx@db/app"},
		{"quoted in a message", "cannot parse `postgres://app:hunter2@db/app`: bad", "cannot parse `postgres://app:xxxxx@db/app`: bad"},
		{"in go quotes", `parse "postgres://app:hunter2@db:99x/app": invalid port`, `parse "postgres://app:xxxxx@db:99x/app": invalid port`},
		{"two urls", "a postgres://a:hunter2@h b postgres://b:hunter2@h", "a postgres://a:xxxxx@h b postgres://b:xxxxx@h"},
		{"query parameter", "postgres://app@db/app?sslmode=disable&password=hunter2&x=1", "postgres://app@db/app?sslmode=disable&password=xxxxx&x=1"},
		{"key value", "host=db password=hunter2 user=app", "host=db password=xxxxx user=app"},
		{"key value spaced", "password = hunter2", "password = xxxxx"},
		{"key value single quoted", "password='hunter2 with space' host=db", "password=xxxxx host=db"},
		{"key value double quoted", `password="hunter2 x" host=db`, `password=xxxxx host=db`},
		{"unterminated quote", "password='hunter2", "password=xxxxx"},
		{"sslpassword", "sslpassword=hunter2", "sslpassword=xxxxx"},
		{"PGPASSWORD", "PGPASSWORD=hunter2", "PGPASSWORD=xxxxx"},
		{"db_password", "DB_PASSWORD=hunter2", "DB_PASSWORD=xxxxx"},
		{"yaml quoted key", `'password': hunter2`, `'password': xxxxx`},
		{"colon without space", "password:hunter2", "password:xxxxx"},
		{"passwd", "passwd=hunter2", "passwd=xxxxx"},
		{"json", `{"password":"hunter2","user":"app"}`, `{"password":xxxxx,"user":"app"}`},
		{"escaped in a query", "sslrootcert=%2Frun%2Fdb%3Fpassword%3Dhunter2`: failed", "sslrootcert=%2Frun%2Fdb%3Fpassword%3Dxxxxx`: failed"},
		{"url encoded path", "open /run/db?password=hunter2: no such file", "open /run/db?password=xxxxx no such file"},
		{"aws presigned", "db:5432/?Action=connect&X-Amz-Credential=AKIA/x&X-Amz-Signature=hunter2&X-Amz-Security-Token=hunter2",
			"db:5432/?Action=connect&X-Amz-Credential=xxxxx&X-Amz-Signature=xxxxx&X-Amz-Security-Token=xxxxx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := String(tc.in)
			if got != tc.want {
				t.Fatalf("String(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if strings.Contains(got, s) {
				t.Fatalf("secret left in %q", got)
			}
		})
	}
}

func TestStringKeepsWhatIsNotSecret(t *testing.T) {
	for _, in := range []string{
		"failed to connect to `user=app database=app`: 127.0.0.1:5432 (127.0.0.1): dial error: connection refused",
		"FATAL: password authentication failed for user \"app\" (SQLSTATE 28P01)",
		"database: read password file: open /run/secrets/db/password: no such file or directory",
		"postgres://app@db:5432/app?sslmode=verify-full",
		"http://127.0.0.1:8080/v1/items",
		"",
	} {
		if got := String(in); got != in {
			t.Errorf("String(%q) = %q, want it unchanged", in, got)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("postgres://app:hunter2@db/app")
	f.Add("password='hunter2'")
	f.Fuzz(func(t *testing.T, prefix string) {
		// Whatever surrounds it, a planted URL password or password= value does not survive.
		for _, in := range []string{prefix + " postgres://u:Zq9SECRETq9Z@h/d", prefix + " password=Zq9SECRETq9Z"} {
			if strings.Contains(String(in), "Zq9SECRETq9Z") {
				t.Fatalf("secret survives in %q", String(in))
			}
		}
	})
}
