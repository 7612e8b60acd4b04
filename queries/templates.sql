-- name: GetTemplate :one
SELECT * FROM templates WHERE id = ?;

-- name: ListTemplates :many
SELECT * FROM templates ORDER BY created_at, id;

-- name: FirstTemplateOfRole :one
-- "The template for a role" is the oldest one of that role (SPEC 6.2), normally the seeded default.
SELECT * FROM templates WHERE role = ? ORDER BY created_at, id LIMIT 1;

-- name: InsertTemplate :exec
INSERT INTO templates (id, name, role, content, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: UpdateTemplate :exec
UPDATE templates SET name = ?, content = ?, updated_at = ? WHERE id = ?;

-- name: DeleteTemplate :execrows
DELETE FROM templates WHERE id = ?;

-- The v2 template list: one page in createdAt order, optionally of one role, keyset-paginated on
-- (created_at, id) through templates_created or templates_role_created (see ListProjectsPage).

-- name: ListTemplatesPage :many
SELECT * FROM templates
WHERE created_at >= sqlc.arg(after_at)
  AND (created_at > sqlc.arg(after_at) OR (created_at = sqlc.arg(after_at) AND id > sqlc.arg(after_id)))
ORDER BY created_at, id
LIMIT sqlc.arg(lim);

-- name: ListTemplatesPageDesc :many
SELECT * FROM templates
WHERE created_at <= sqlc.arg(after_at)
  AND (created_at < sqlc.arg(after_at) OR (created_at = sqlc.arg(after_at) AND id < sqlc.arg(after_id)))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: ListRoleTemplatesPage :many
SELECT * FROM templates
WHERE role = sqlc.arg(role) AND created_at >= sqlc.arg(after_at)
  AND (created_at > sqlc.arg(after_at) OR (created_at = sqlc.arg(after_at) AND id > sqlc.arg(after_id)))
ORDER BY created_at, id
LIMIT sqlc.arg(lim);

-- name: ListRoleTemplatesPageDesc :many
SELECT * FROM templates
WHERE role = sqlc.arg(role) AND created_at <= sqlc.arg(after_at)
  AND (created_at < sqlc.arg(after_at) OR (created_at = sqlc.arg(after_at) AND id < sqlc.arg(after_id)))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: CountTemplates :one
SELECT COUNT(*) FROM templates;

-- name: CountRoleTemplates :one
SELECT COUNT(*) FROM templates WHERE role = ?;
