/**
 * What payments asks the courses service, at the moment it matters and never from the client: a
 * course's sale facts at checkout (status, price, instructor, whether the buyer is already
 * enrolled), and the buyer's progress when they ask for a refund. Both through `_entities` with
 * the buyer's token, so the answer reflects what the courses service shows that buyer.
 */
import { GraphQLError } from 'graphql';
import { unavailable, type SubgraphClient } from './subgraph-client.ts';

export interface CourseFacts {
  id: string;
  title: string;
  status: 'DRAFT' | 'PUBLISHED' | 'ARCHIVED';
  isFree: boolean;
  price: { amount: number; currency: string } | null;
  instructorId: string;
  /** The viewer's enrollment, or null when they have none. */
  viewerEnrollment: { status: 'ACTIVE' | 'COMPLETED' | 'REVOKED'; progressPercent: number } | null;
}

const COURSE_FACTS = /* GraphQL */ `
  query PaymentsCourseFacts($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Course {
        id
        title
        status
        isFree
        price { amount currency }
        instructor { id }
        viewerEnrollment { status progress { percent } }
      }
    }
  }
`;

interface CourseEntity {
  id: string;
  title: string;
  status: CourseFacts['status'];
  isFree: boolean;
  price: { amount: number; currency: string } | null;
  instructor: { id: string };
  viewerEnrollment: { status: 'ACTIVE' | 'COMPLETED' | 'REVOKED'; progress: { percent: number } } | null;
}

export interface CoursesClient {
  /** The course as the viewer sees it; null when it does not exist or is hidden from them. */
  courseFacts(courseId: string, authorization: string | undefined): Promise<CourseFacts | null>;
}

export function coursesClient(call: SubgraphClient): CoursesClient {
  return {
    async courseFacts(courseId, authorization) {
      const reply = await call<{ _entities: (CourseEntity | null)[] }>(
        COURSE_FACTS,
        { representations: [{ __typename: 'Course', id: courseId }] },
        authorization,
      );
      const course = reply.data?._entities?.[0];
      const codes = reply.errors.map((e) => e.extensions?.code);
      // A course the viewer may not see (a draft of someone else's) is, for them, not there.
      if (!course) {
        if (reply.errors.length === 0 || codes.every((c) => c === 'FORBIDDEN' || c === 'NOT_FOUND' || c === 'UNAUTHENTICATED')) return null;
        throw unavailable('courses');
      }
      if (reply.errors.length > 0) {
        if (codes.includes('FORBIDDEN') || codes.includes('UNAUTHENTICATED')) return null;
        throw new GraphQLError('The courses service could not describe this course; nothing was changed. Try again in a moment.', {
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        });
      }
      return {
        id: course.id,
        title: course.title,
        status: course.status,
        isFree: course.isFree,
        price: course.price,
        instructorId: course.instructor.id,
        viewerEnrollment: course.viewerEnrollment
          ? { status: course.viewerEnrollment.status, progressPercent: course.viewerEnrollment.progress.percent }
          : null,
      };
    },
  };
}
