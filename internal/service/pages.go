package service

import (
	"slices"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// List queries are validated here, before the store runs them: the store builds and runs the SQL of a
// query it can trust, and the rules about which queries make sense live with the other rules.

// checkSort refuses a sort the list does not have ("" is the list's default).
// Errors: VALIDATION_ERROR on sort.
func checkSort(sort string, allowed []string) error {
	if sort == "" || slices.Contains(allowed, sort) {
		return nil
	}
	return maestro.InvalidField("sort", "unknown sort %q", sort)
}

// checkTaskQuery validates a task list query. Errors: VALIDATION_ERROR (parentId with root=true, an
// unknown sort, a search without any word, relevance without a search), in that order.
func checkTaskQuery(tq maestro.TaskQuery) error {
	if tq.Root && tq.ParentID != "" {
		return maestro.InvalidField("root", "give parentId or root=true, not both")
	}
	if err := checkSort(tq.Sort, maestro.TaskSorts); err != nil {
		return err
	}
	if tq.Search != "" {
		if len(maestro.SearchWords(tq.Search)) == 0 {
			return maestro.InvalidField("q", "q must contain at least one letter or digit")
		}
	} else if tq.Sort == maestro.SortRelevance {
		return maestro.InvalidField("sort", "sort=relevance needs a search query (q)")
	}
	return nil
}
