package main

import (
	"github.com/pcapq/pcapq/analyzers/all"
	"github.com/pcapq/pcapq/schema"
)

// SchemaCmd prints the table reference.
type SchemaCmd struct {
	Markdown bool `help:"Print Markdown (as in SCHEMA.md)."`
}

// Run prints every table and column.
func (c *SchemaCmd) Run(g *Globals) error {
	if c.Markdown {
		return schema.WriteMarkdown(g.stdout, all.Tables)
	}
	return schema.WriteText(g.stdout, all.Tables)
}
