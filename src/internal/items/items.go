// Package items holds the example resource that shows the database link end to end: an item has
// a UUIDv7 id (time-ordered, so keyset pagination by id follows creation order), a name of 1 to
// 200 characters, and its creation time.
package items

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Item is one stored item.
type Item struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Limits of a name and of a page.
const (
	MaxNameLen   = 200
	DefaultLimit = 20
	MaxLimit     = 100
)

// ErrNotFound means no item has the given id.
var ErrNotFound = errors.New("item not found")

// ValidateName checks a name: 1 to 200 characters (runes), no control characters, not only
// spaces. The message is safe to show to the client.
func ValidateName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return errors.New("name is required")
	case n > MaxNameLen:
		return fmt.Errorf("name must be at most %d characters, got %d", MaxNameLen, n)
	case strings.TrimSpace(name) == "":
		return errors.New("name must not be blank")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return errors.New("name must not contain control characters")
	}
	return nil
}

// Store keeps items in PostgreSQL. Every call is bounded by the store's timeout, so a database
// that does not answer makes a request fail fast instead of hanging.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
}

// NewStore returns a store over pool whose calls each take at most timeout.
func NewStore(pool *pgxpool.Pool, timeout time.Duration) *Store {
	return &Store{pool: pool, timeout: timeout}
}

// Ids travel to and from pgx as [16]byte, which it encodes natively in binary; a uuid.UUID would
// go through database/sql's Valuer as text and be parsed again (about a dozen allocations).

// Create stores a new item with a fresh UUIDv7 id.
func (s *Store) Create(ctx context.Context, name string) (Item, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Item{}, fmt.Errorf("items: new id: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	it := Item{ID: id}
	err = s.pool.QueryRow(ctx, `INSERT INTO items (id, name) VALUES ($1, $2) RETURNING name, created_at`, [16]byte(id), name).
		Scan(&it.Name, &it.CreatedAt)
	if err != nil {
		return Item{}, fmt.Errorf("items: create: %w", err)
	}
	it.CreatedAt = it.CreatedAt.UTC()
	return it, nil
}

// Get returns the item with id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id uuid.UUID) (Item, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	it := Item{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT name, created_at FROM items WHERE id = $1`, [16]byte(id)).Scan(&it.Name, &it.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Item{}, ErrNotFound
	}
	if err != nil {
		return Item{}, fmt.Errorf("items: get: %w", err)
	}
	it.CreatedAt = it.CreatedAt.UTC()
	return it, nil
}

// List returns up to limit items with ids after the given one (uuid.Nil: from the start), in id
// order, which for UUIDv7 ids is creation order.
func (s *Store) List(ctx context.Context, after uuid.UUID, limit int) ([]Item, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_at FROM items WHERE id > $1 ORDER BY id LIMIT $2`, [16]byte(after), limit)
	if err != nil {
		return nil, fmt.Errorf("items: list: %w", err)
	}
	out := make([]Item, 0, limit)
	for rows.Next() {
		var it Item
		if err := rows.Scan((*[16]byte)(&it.ID), &it.Name, &it.CreatedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("items: list: %w", err)
		}
		it.CreatedAt = it.CreatedAt.UTC()
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("items: list: %w", err)
	}
	return out, nil
}

// Delete removes the item with id, or returns ErrNotFound.
func (s *Store) Delete(ctx context.Context, id uuid.UUID) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM items WHERE id = $1`, [16]byte(id))
	if err != nil {
		return fmt.Errorf("items: delete: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
