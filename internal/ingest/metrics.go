package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ingest pipeline's Prometheus metrics.
type Metrics struct {
	Received     prometheus.Counter
	Succeeded    *prometheus.CounterVec // by record type
	Failed       *prometheus.CounterVec // by reason
	Retried      prometheus.Counter
	DeadLettered prometheus.Counter
	Pending      prometheus.Gauge
	InFlight     prometheus.Gauge
	DeadLetters  prometheus.Gauge
	Latency      prometheus.Histogram
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_ingest_messages_received_total", Help: "Queue messages received (each delivery counts)."}),
		Succeeded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_ingest_records_succeeded_total", Help: "Records written, by type (Item, Collection, action)."}, []string{"type"}),
		Failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_ingest_records_failed_total", Help: "Record failures by reason, retried or not."}, []string{"reason"}),
		Retried: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_ingest_messages_retried_total", Help: "Messages handed back to the queue for a later attempt."}),
		DeadLettered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_ingest_records_dead_lettered_total", Help: "Records written to the dead-letter stream."}),
		Pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_ingest_queue_pending", Help: "Messages waiting in the ingest queue, not yet delivered (queue lag)."}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_ingest_queue_in_flight", Help: "Messages delivered to workers and not yet acknowledged."}),
		DeadLetters: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_ingest_dead_letters", Help: "Messages in the dead-letter stream."}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tessera_ingest_latency_seconds",
			Help:    "Time from publication to durable write, for written records.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Received, m.Succeeded, m.Failed, m.Retried, m.DeadLettered,
			m.Pending, m.InFlight, m.DeadLetters, m.Latency)
	}
	return m
}
