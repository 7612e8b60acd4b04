package maestro

// Queue item statuses (SPEC §6.1); completed, failed and skipped are terminal.
const (
	QueueQueued     = "queued"
	QueueProcessing = "processing"
	QueueCompleted  = "completed"
	QueueFailed     = "failed"
	QueueSkipped    = "skipped"
)

// Queue is the work queue of a session spawned with the queue strategy (SPEC §1.6).
type Queue struct {
	SessionID    string      `json:"sessionId"`
	Strategy     string      `json:"strategy"`
	Items        []QueueItem `json:"items"`
	CurrentIndex int         `json:"currentIndex"`
	CreatedAt    int64       `json:"createdAt"`
	UpdatedAt    int64       `json:"updatedAt"`
}

// QueueItem is one task in a queue.
type QueueItem struct {
	TaskID      string  `json:"taskId"`
	Status      string  `json:"status"`
	AddedAt     int64   `json:"addedAt"`
	StartedAt   *int64  `json:"startedAt,omitempty"`
	CompletedAt *int64  `json:"completedAt,omitempty"`
	FailReason  *string `json:"failReason,omitempty"`
}

// QueueStats counts a queue's items by status; it is computed, never stored.
type QueueStats struct {
	Total      int `json:"total"`
	Queued     int `json:"queued"`
	Processing int `json:"processing"`
	Completed  int `json:"completed"`
	Failed     int `json:"failed"`
	Skipped    int `json:"skipped"`
}

// Stats computes the queue's statistics.
func (q *Queue) Stats() QueueStats {
	s := QueueStats{Total: len(q.Items)}
	for _, it := range q.Items {
		switch it.Status {
		case QueueQueued:
			s.Queued++
		case QueueProcessing:
			s.Processing++
		case QueueCompleted:
			s.Completed++
		case QueueFailed:
			s.Failed++
		case QueueSkipped:
			s.Skipped++
		}
	}
	return s
}

// QueueStep is the outcome of a queue operation that moves an item: the item it changed (nil when there
// was none to change), the next queued item (nil when none is left), and the message for the caller.
type QueueStep struct {
	Item    *QueueItem
	Next    *QueueItem
	Message string
}
