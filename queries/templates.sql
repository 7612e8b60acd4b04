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
