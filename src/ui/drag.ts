/** Drag and drop of tasks (onto a session to assign, onto a column to change status). */

export const TASK_DRAG_TYPE = 'application/x-clare-task';

export function startTaskDrag(e: DragEvent, taskId: string): void {
  if (e.dataTransfer === null) return;
  e.dataTransfer.setData(TASK_DRAG_TYPE, taskId);
  e.dataTransfer.setData('text/plain', taskId);
  e.dataTransfer.effectAllowed = 'move';
}

/** True (and the drop allowed) when a task is being dragged over the target. */
export function acceptTaskDrag(e: DragEvent): boolean {
  if (e.dataTransfer === null || !e.dataTransfer.types.includes(TASK_DRAG_TYPE)) return false;
  e.preventDefault();
  e.dataTransfer.dropEffect = 'move';
  return true;
}

/** The dragged task's id on drop, or null when something else was dropped. */
export function droppedTask(e: DragEvent): string | null {
  const id = e.dataTransfer?.getData(TASK_DRAG_TYPE) ?? '';
  if (id === '') return null;
  e.preventDefault();
  return id;
}
