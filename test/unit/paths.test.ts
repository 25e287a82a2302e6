import { strict as assert } from 'node:assert';
import { PathOutsideWorkspaceError, WorkspacePathMapper } from '../../src/core/sandbox/paths';

describe('WorkspacePathMapper', () => {
  const mapper = new WorkspacePathMapper('/home/ada/project', '/workspaces/project');

  it('maps absolute container paths and relative paths into the workspace', () => {
    assert.equal(mapper.toWorkspaceRelative('/workspaces/project/src/a.ts'), 'src/a.ts');
    assert.equal(mapper.toWorkspaceRelative('src/./b.ts'), 'src/b.ts');
    assert.equal(mapper.toHost('src/a.ts'), '/home/ada/project/src/a.ts');
    assert.equal(mapper.toContainer('src/a.ts'), '/workspaces/project/src/a.ts');
  });

  for (const hostile of [
    '/etc/passwd',
    '../outside.txt',
    '/workspaces/project/../project2/x',
    '/workspaces/projectX/a',
    '',
    'a\0b',
    '/workspaces/project',
  ]) {
    it(`refuses ${JSON.stringify(hostile)}`, () => {
      assert.throws(() => mapper.toWorkspaceRelative(hostile), PathOutsideWorkspaceError);
    });
  }
});
