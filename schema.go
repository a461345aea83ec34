// Package itad is the root of the itad module: a ledger of IT equipment at
// its end of life. It holds the database schema, embedded from schema.sql,
// split into versioned migrations. The domain and store live in package
// ledger, PDF certificates in package certificate, the CLI in cmd/itad.
package itad

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

//go:embed schema.sql
var schemaSQL string

// Migration is one numbered step of the schema.
type Migration struct {
	Version     int
	Description string
	SQL         string
}

var migrationHeader = regexp.MustCompile(`(?m)^-- migration (\d+): (.*)$`)

// Migrations returns the schema's migrations in order. It panics if
// schema.sql is malformed (numbers not 1, 2, 3, ...): that is a build bug
// caught by the tests, not a runtime condition.
func Migrations() []Migration {
	locs := migrationHeader.FindAllStringSubmatchIndex(schemaSQL, -1)
	var out []Migration
	for i, loc := range locs {
		end := len(schemaSQL)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		v, _ := strconv.Atoi(schemaSQL[loc[2]:loc[3]])
		if v != i+1 {
			panic(fmt.Sprintf("schema.sql: migration %d found where %d expected", v, i+1))
		}
		out = append(out, Migration{
			Version:     v,
			Description: strings.TrimSpace(schemaSQL[loc[4]:loc[5]]),
			SQL:         schemaSQL[loc[1]:end],
		})
	}
	return out
}
