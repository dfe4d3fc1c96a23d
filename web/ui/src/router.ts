// One lazy route per page: each page is its own chunk and pulls in only the chart types it registers.
import { createRouter, createWebHistory, type RouteComponent, type RouteRecordRaw } from 'vue-router';

type Lazy = () => Promise<RouteComponent>;

export const NAV: { name: string; path: string; label: string; component: Lazy }[] = [
  { name: 'overview', path: '/', label: 'Overview', component: () => import('./pages/OverviewPage.vue') },
  { name: 'explore', path: '/explore', label: 'Explore', component: () => import('./pages/ExplorePage.vue') },
  { name: 'portgroups', path: '/portgroups', label: 'Portgroups', component: () => import('./pages/PortgroupsPage.vue') },
  { name: 'vips', path: '/vips', label: 'VIPs', component: () => import('./pages/VipsPage.vue') },
  { name: 'exporters', path: '/exporters', label: 'Exporters', component: () => import('./pages/ExportersPage.vue') },
  { name: 'channels', path: '/channels', label: 'Channels', component: () => import('./pages/ChannelsPage.vue') },
  { name: 'alerts', path: '/alerts', label: 'Alerts', component: () => import('./pages/AlertsPage.vue') },
];

const routes: RouteRecordRaw[] = [
  ...NAV.map((n) => ({ name: n.name, path: n.path, component: n.component, meta: { title: n.label } })),
  { path: '/overview', redirect: (to) => ({ path: '/', query: to.query }) },
  { path: '/:pathMatch(.*)*', name: 'not-found', redirect: '/' },
];

export const router = createRouter({ history: createWebHistory(), routes });

router.afterEach((to) => {
  const t = to.meta.title;
  document.title = typeof t === 'string' ? `${t} · dvflow` : 'dvflow';
});

/** Query keys that follow the user from page to page (the window), so switching pages keeps the time range. */
export const SHARED_KEYS = ['window', 'from', 'to'] as const;
