package wire

// OpMetrics asks for the service's metrics in the Prometheus text format
// (request Empty, reply Data). Only a connection whose Hello names the
// client StatsClient may send it; such a connection opens no session
// (package metrics answers it).
const OpMetrics Op = 15

// StatsClient is the client name of a `ferry stats` connection.
const StatsClient = "ferry stats"
