import { lazy } from "react";
import { BrowserRouter, Route, Routes } from "react-router";
import { ApiProvider } from "./api/client";
import { SessionProvider } from "./api/session";
import { Layout } from "./components/Layout";
import { RequireSession } from "./components/RequireSession";
import { Catalog } from "./pages/learner/Catalog";

// The catalog (the first page) is in the entry chunk; every other page loads when first opened.
const LogIn = lazy(() => import("./pages/account/LogIn"));
const SignUp = lazy(() => import("./pages/account/SignUp"));
const Course = lazy(() => import("./pages/learner/Course"));
const Reader = lazy(() => import("./pages/learner/Reader"));
const Quiz = lazy(() => import("./pages/learner/Quiz"));
const Tutor = lazy(() => import("./pages/learner/Tutor"));
const Dashboard = lazy(() => import("./pages/learner/Dashboard"));
const MyLearning = lazy(() => import("./pages/learner/MyLearning"));
const MyCourses = lazy(() => import("./pages/instructor/MyCourses"));
const NewCourse = lazy(() => import("./pages/instructor/NewCourse"));
const CourseEditor = lazy(() => import("./pages/instructor/CourseEditor"));
const NotFound = lazy(() => import("./pages/NotFound"));

const learner = (page: React.ReactNode) => <RequireSession role="LEARNER">{page}</RequireSession>;
const instructor = (page: React.ReactNode) => <RequireSession role="INSTRUCTOR">{page}</RequireSession>;

export function App() {
  return (
    <SessionProvider>
      <ApiProvider>
        <BrowserRouter>
          <Routes>
            <Route element={<Layout />}>
              <Route index element={<Catalog />} />
              <Route path="login" element={<LogIn />} />
              <Route path="signup" element={<SignUp />} />
              <Route path="courses/:courseId" element={<Course />} />
              <Route path="courses/:courseId/modules/:moduleId" element={learner(<Reader />)} />
              <Route path="courses/:courseId/modules/:moduleId/quiz" element={learner(<Quiz />)} />
              <Route path="courses/:courseId/tutor" element={learner(<Tutor />)} />
              <Route path="learners/:learnerId/courses/:courseId" element={learner(<Dashboard />)} />
              <Route path="learning" element={learner(<MyLearning />)} />
              <Route path="teach" element={instructor(<MyCourses />)} />
              <Route path="teach/new" element={instructor(<NewCourse />)} />
              <Route path="teach/courses/:courseId/:tab?" element={instructor(<CourseEditor />)} />
              <Route path="*" element={<NotFound />} />
            </Route>
          </Routes>
        </BrowserRouter>
      </ApiProvider>
    </SessionProvider>
  );
}
