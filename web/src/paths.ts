// Every route of the portal, built in one place.
export const paths = {
  home: () => "/",
  logIn: (next?: string) => (next ? `/login?next=${encodeURIComponent(next)}` : "/login"),
  signUp: (next?: string) => (next ? `/signup?next=${encodeURIComponent(next)}` : "/signup"),
  learning: () => "/learning",
  course: (courseId: string) => `/courses/${courseId}`,
  reader: (courseId: string, moduleId: string) => `/courses/${courseId}/modules/${moduleId}`,
  quiz: (courseId: string, moduleId: string) => `/courses/${courseId}/modules/${moduleId}/quiz`,
  tutor: (courseId: string) => `/courses/${courseId}/tutor`,
  dashboard: (learnerId: string, courseId: string) => `/learners/${learnerId}/courses/${courseId}`,
  teach: () => "/teach",
  newCourse: () => "/teach/new",
  editor: (courseId: string, tab?: "materials" | "objectives" | "analytics") =>
    tab ? `/teach/courses/${courseId}/${tab}` : `/teach/courses/${courseId}`,
};
