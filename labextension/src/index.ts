// nbprod in JupyterLab: a command (palette and launcher) that opens a panel with the
// pipeline's tasks and their status, builds the pipeline or one task, and opens the
// report index, the comparison page and the models list. The data come from nbprod's
// server extension (nbprod.pipeline.lab_panel) under /nbprod/.
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ILauncher } from '@jupyterlab/launcher';
import { ServerConnection } from '@jupyterlab/services';
import { buildIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

const COMMAND = 'nbprod:open-panel';

interface ITask {
  name: string;
  upstream: string[];
  status: string;
  why: string;
  last_run: string;
  report: string | null;
}

interface IBuild {
  task: string | null;
  command: string;
  running: boolean;
  returncode: number | null;
  output: string;
}

interface IStatus {
  tasks: ITask[];
  index: string | null;
  compare: string | null;
  build: IBuild | null;
  error?: string;
}

interface IModels {
  name: string;
  metrics: string[];
  versions: {
    version: string;
    stage: string;
    created: string;
    metrics: { [k: string]: number | null };
  }[];
  error?: string;
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'nbprod', path);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const body = await response.json();
  if (!response.ok && !body.error) {
    body.error = `${response.status} ${response.statusText}`;
  }
  return body as T;
}

function fileUrl(path: string): string {
  return URLExt.join(PageConfig.getBaseUrl(), 'files', URLExt.encodeParts(path));
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: { [k: string]: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function link(text: string, path: string | null, cls: string): HTMLElement {
  if (!path) {
    return el('span', { class: `${cls} nbprod-missing` }, text);
  }
  return el(
    'a',
    { class: cls, href: fileUrl(path), target: '_blank', rel: 'noopener' },
    text
  );
}

class PipelinePanel extends Widget {
  private polling = false;

  constructor() {
    super();
    this.id = 'nbprod-panel';
    this.addClass('nbprod-panel');
    this.title.label = 'nbprod';
    this.title.closable = true;
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const status = await api<IStatus>('status');
    this.render(status);
    if (status.build?.running) {
      void this.poll();
    }
  }

  private render(status: IStatus): void {
    const build = el('button', { class: 'jp-mod-styled jp-mod-accept nbprod-build-all' }, 'Build pipeline');
    build.onclick = () => void this.build(null);
    const refresh = el('button', { class: 'jp-mod-styled nbprod-refresh' }, 'Refresh');
    refresh.onclick = () => void this.refresh();
    const compare = el('button', { class: 'jp-mod-styled nbprod-compare' }, 'Compare models');
    compare.onclick = () => void this.compare();
    const models = el('button', { class: 'jp-mod-styled nbprod-models-button' }, 'Models');
    models.onclick = () => void this.models();
    const bar = el(
      'div',
      { class: 'nbprod-bar' },
      build,
      refresh,
      link('Report index', status.index, 'nbprod-index'),
      compare,
      models
    );
    const rows = (status.tasks || []).map(t => {
      const run = el('button', { class: 'jp-mod-styled nbprod-build-task', 'data-task': t.name }, 'Build');
      run.onclick = () => void this.build(t.name);
      return el(
        'tr',
        { class: 'nbprod-task', 'data-task': t.name, 'data-status': t.status },
        el('td', {}, t.name),
        el('td', {}, el('span', { class: `nbprod-status nbprod-${t.status.replace(/ /g, '-')}` }, t.status)),
        el('td', {}, t.last_run || 'never'),
        el('td', { class: 'nbprod-why' }, t.why),
        el('td', {}, link('report', t.report, 'nbprod-report'), ' ', run)
      );
    });
    const table = el(
      'table',
      { class: 'nbprod-tasks' },
      el('thead', {}, el('tr', {}, ...['task', 'status', 'last run', 'why', ''].map(h => el('th', {}, h)))),
      el('tbody', {}, ...rows)
    );
    this.node.replaceChildren(
      el('h2', {}, 'Pipeline'),
      bar,
      status.error ? el('p', { class: 'nbprod-error' }, status.error) : table,
      el('div', { class: 'nbprod-models' }),
      el('pre', { class: 'nbprod-output' })
    );
    this.showBuild(status.build);
  }

  private showBuild(build: IBuild | null): void {
    const out = this.node.querySelector('.nbprod-output') as HTMLElement;
    if (!build) {
      out.textContent = '';
      return;
    }
    const state = build.running
      ? 'running'
      : build.returncode === 0
        ? 'finished'
        : `failed (exit ${build.returncode})`;
    out.dataset.state = build.running ? 'running' : build.returncode === 0 ? 'finished' : 'failed';
    out.textContent = `$ ${build.command}: ${state}\n${build.output}`;
    out.scrollTop = out.scrollHeight;
  }

  private async build(task: string | null): Promise<void> {
    const answer = await api<{ build?: IBuild; error?: string }>('build', {
      method: 'POST',
      body: JSON.stringify(task ? { task } : {})
    });
    if (answer.error) {
      this.message(answer.error);
      return;
    }
    this.showBuild(answer.build ?? null);
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.polling) {
      return;
    }
    this.polling = true;
    try {
      for (;;) {
        await new Promise(r => setTimeout(r, 1000));
        const { build } = await api<{ build: IBuild | null }>('build');
        if (!build?.running) {
          break;
        }
        this.showBuild(build);
      }
      // the table read again first, then the build shown as ended (with its output)
      this.render(await api<IStatus>('status'));
    } finally {
      this.polling = false;
    }
  }

  private async compare(): Promise<void> {
    // the tab is opened on the click itself (a browser blocks one opened after a request)
    const tab = window.open('', '_blank');
    const answer = await api<{ page?: string; error?: string }>('compare', { method: 'POST' });
    if (answer.error || !answer.page) {
      tab?.close();
      this.message(answer.error ?? 'no page');
      return;
    }
    if (tab) {
      tab.location.href = fileUrl(answer.page);
    }
  }

  private async models(): Promise<void> {
    const box = this.node.querySelector('.nbprod-models') as HTMLElement;
    const answer = await api<IModels>('models');
    if (answer.error) {
      box.replaceChildren(el('p', { class: 'nbprod-error' }, answer.error));
      return;
    }
    const head = ['version', 'stage', 'created', ...answer.metrics];
    const rows = answer.versions.map(v =>
      el(
        'tr',
        { class: `nbprod-version nbprod-stage-${v.stage}` },
        el('td', {}, v.version),
        el('td', {}, v.stage),
        el('td', {}, v.created),
        ...answer.metrics.map(m => el('td', {}, v.metrics[m] == null ? '-' : Number(v.metrics[m]).toFixed(4)))
      )
    );
    box.replaceChildren(
      el('h2', {}, `Models: ${answer.name}`),
      el(
        'table',
        { class: 'nbprod-tasks' },
        el('thead', {}, el('tr', {}, ...head.map(h => el('th', {}, h)))),
        el('tbody', {}, ...rows)
      )
    );
  }

  private message(text: string): void {
    const out = this.node.querySelector('.nbprod-output') as HTMLElement;
    out.dataset.state = 'error';
    out.textContent = text;
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nbprod:panel',
  description: "The pipeline's tasks, their status and builds, reports and models.",
  autoStart: true,
  requires: [ICommandPalette],
  optional: [ILauncher, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette,
    launcher: ILauncher | null,
    restorer: ILayoutRestorer | null
  ) => {
    const tracker = new WidgetTracker<MainAreaWidget<PipelinePanel>>({ namespace: 'nbprod' });
    app.commands.addCommand(COMMAND, {
      label: args => (args['isLauncher'] ? 'nbprod' : 'nbprod: pipeline, builds, reports and models'),
      caption: "The pipeline's tasks and their status; build, open the reports and models",
      icon: args => (args['isLauncher'] ? buildIcon : undefined),
      execute: () => {
        let widget = tracker.currentWidget;
        if (!widget || widget.isDisposed) {
          widget = new MainAreaWidget({ content: new PipelinePanel() });
          widget.id = 'nbprod-pipeline';
          widget.title.label = 'nbprod';
          widget.title.closable = true;
          void tracker.add(widget);
        }
        if (!widget.isAttached) {
          app.shell.add(widget, 'main');
        }
        app.shell.activateById(widget.id);
        return widget;
      }
    });
    palette.addItem({ command: COMMAND, category: 'nbprod' });
    if (launcher) {
      launcher.add({ command: COMMAND, category: 'Other', rank: 0, args: { isLauncher: true } });
    }
    if (restorer) {
      void restorer.restore(tracker, { command: COMMAND, name: () => 'nbprod' });
    }
  }
};

export default plugin;
