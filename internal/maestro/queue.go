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

// Next returns a copy of the item start would take next (the first queued one), or nil.
func (q *Queue) Next() *QueueItem {
	for _, it := range q.Items {
		if it.Status == QueueQueued {
			return &it
		}
	}
	return nil
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
// was none to change), the next queued item (nil when none is left), the message for the caller, and the
// queue as the step left it.
type QueueStep struct {
	Item    *QueueItem
	Next    *QueueItem
	Message string
	Queue   Queue
}
