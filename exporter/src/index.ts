// The exporter's public surface: how to start it, and the shapes of its JSON views
// (for programs that read /host, /containers, /services or /stats).
export { bearerAuth, Credentials, createExporterApp } from './app.js';
export { type ExporterConfig, loadExporterConfig } from './config.js';
export { main } from './main.js';
export { type RunningExporter, startExporter } from './server.js';
export type { ContainersView, ContainerView, HostView, ServicesView, StatsView } from './views.js';
