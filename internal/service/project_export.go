package service

import (
	"context"
	"errors"
	"slices"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Export returns a project and everything that belongs to it as one document (API v2): its tasks, its
// sessions with their event logs, timelines and task links, and the sessions' queues. Everything is
// read from one snapshot of the database, so the document is consistent even while others write.
//
// The document imports on its own: references that leave the project (links to tasks or sessions of
// other projects, a parent or a dependency in another project) are taken out of the records and listed
// in Omitted. Queues whose session was deleted are not exported: nothing ties them to a project any
// more. Errors: NOT_FOUND.
func (s *Projects) Export(ctx context.Context, id string) (maestro.ProjectExport, error) {
	doc := maestro.ProjectExport{Format: maestro.ExportFormat, Version: maestro.ExportVersion, ExportedAt: s.nowMs()}
	err := s.st.ReadTx(ctx, func(q *store.Q) error {
		p, err := q.GetProject(ctx, id)
		if err != nil {
			return notFound(err, "Project", id)
		}
		doc.Project = p
		if doc.Tasks, err = q.ListTasks(ctx, maestro.TaskFilter{ProjectID: id}); err != nil {
			return err
		}
		if doc.Sessions, err = q.ListSessions(ctx, maestro.SessionFilter{ProjectID: id}); err != nil {
			return err
		}
		doc.Omitted = confineToDocument(&doc)
		for _, sess := range doc.Sessions {
			qu, err := q.GetQueue(ctx, sess.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			doc.Queues = append(doc.Queues, qu)
		}
		return nil
	})
	if doc.Queues == nil {
		doc.Queues = []maestro.Queue{}
	}
	return doc, err
}

// confineToDocument drops every reference from a task or session of doc to a record that is not in
// doc, and returns what it dropped, in document order.
func confineToDocument(doc *maestro.ProjectExport) []maestro.OmittedRef {
	tasks := make(map[string]bool, len(doc.Tasks))
	for _, t := range doc.Tasks {
		tasks[t.ID] = true
	}
	sessions := make(map[string]bool, len(doc.Sessions))
	for _, sess := range doc.Sessions {
		sessions[sess.ID] = true
	}
	omitted := []maestro.OmittedRef{}
	keep := func(kind, from string, ids []string, in map[string]bool) []string {
		return slices.DeleteFunc(slices.Clone(ids), func(to string) bool {
			if in[to] {
				return false
			}
			omitted = append(omitted, maestro.OmittedRef{Kind: kind, From: from, To: to})
			return true
		})
	}
	for i := range doc.Tasks {
		t := &doc.Tasks[i]
		if t.ParentID != nil && !tasks[*t.ParentID] {
			omitted = append(omitted, maestro.OmittedRef{Kind: maestro.OmittedParent, From: t.ID, To: *t.ParentID})
			t.ParentID = nil
		}
		t.Dependencies = keep(maestro.OmittedDependency, t.ID, t.Dependencies, tasks)
		t.SessionIDs = keep(maestro.OmittedLink, t.ID, t.SessionIDs, sessions)
	}
	for i := range doc.Sessions {
		sess := &doc.Sessions[i]
		sess.TaskIDs = keep(maestro.OmittedLink, sess.ID, sess.TaskIDs, tasks)
	}
	return omitted
}
