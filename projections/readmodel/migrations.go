package readmodel

import "github.com/unesco-uil/mdfm-ledger/projections/readmodel/schema"

// migrations is the schema's ordered list of changes (schema.Migrations):
// migrations[i] brings the schema from version i to version i+1.
var migrations = schema.Migrations
