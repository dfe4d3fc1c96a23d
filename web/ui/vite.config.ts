// Builds the dashboard into web/ui/dist (served by the fastify server at /); in development, `npx vite` proxies
// /api to a daemon on 127.0.0.1:8080. Chunks: Vue and the router in one, ECharts' core and renderer in another;
// each chart type (line, bar, pie, sankey) stays with the pages that register it, so a page loads only those.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

/** A chart type's own modules (echarts/lib/chart/<type>/ and its installer <type>.js), not the shared helpers. */
const CHART_TYPE = /echarts[\\/]lib[\\/]chart[\\/](?!helper[\\/])[^\\/]+([\\/]|\.js$)/;

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [vue()],
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      output: {
        // Manual chunks (rolldown's codeSplitting groups; a higher priority wins, so vue stays in its own chunk
        // although vue-echarts imports it).
        codeSplitting: {
          groups: [
            { name: 'vue', test: /node_modules[\\/](@vue|vue|vue-router)[\\/]/, priority: 30 },
            { name: 'codemirror', test: /node_modules[\\/](@codemirror|@lezer|style-mod|w3c-keyname|crelt)[\\/]/, priority: 20 },
            // ECharts' shared machinery (core, renderer, zrender, components, and lib/chart/helper which the
            // components use too); each chart type (lib/chart/line, bar, sankey ...) stays with the component
            // that registers it.
            { name: 'echarts-core', test: (id: string) => /node_modules[\\/](zrender|tslib|vue-echarts|echarts)[\\/]/.test(id) && !CHART_TYPE.test(id), priority: 10 },
          ],
        },
      },
    },
  },
});
