import { z } from 'zod';
import { childRefSchema, instantSchema, localDateSchema, referralIdSchema } from './ids';
import { referralSourceSchema } from './cin-census/codes';
import { authorityPolicySchema } from './policy';

export const referrerTypes = ['police', 'health', 'education', 'family', 'self', 'anonymous', 'local-authority', 'other'] as const;

const code = (what: string) => z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, `${what} may hold only letters, digits, '-' and '_'`);

export const childSchema = z
  .object({
    childRef: childRefSchema,
    dateOfBirth: localDateSchema.optional(),
    /** An unborn child: the assessment completes well before this date. */
    expectedDeliveryDate: localDateSchema.optional(),
    schoolAge: z.boolean().optional(),
    /** a 16 or 17 year old who is homeless or at risk of it. */
    homelessOrAtRisk: z.boolean().optional(),
    /** R-28 (section 10): homeless now, the threat imminent, or at risk (implies homelessOrAtRisk). */
    homelessness: z.enum(['homeless', 'threat-imminent', 'at-risk']).optional(),
    /** R-28 (section 10): the case system knows the young person is 16 or 17 (near 18, pregnant or with a child included) without a date of birth. */
    aged16Or17: z.boolean().optional(),
    /** R-26 (section 10): a looked-after child: a strategy discussion invites the residential or fostering service caring for them. */
    lookedAfter: z.boolean().optional(),
    /** R-20 (section 10): an unborn child's referral date is when the authority learnt of the pregnancy. */
    pregnancyKnownOn: localDateSchema.optional(),
  })
  .strict()
  .refine((child) => !(child.dateOfBirth && child.expectedDeliveryDate), {
    message: 'give dateOfBirth or expectedDeliveryDate, not both',
    path: ['expectedDeliveryDate'],
  });

export const referralInputSchema = z
  .object({
    referralId: referralIdSchema,
    /** When the referral was received; may lie in the past (migrated or late-entered cases). */
    receivedAt: instantSchema,
    referrerType: z.enum(referrerTypes),
    /**
     * The DfE census ReferralSource code (1A..10), where the case system knows it: finer than
     * referrerType, and it wins over the code mapped from referrerType in the census.
     */
    referralSourceCode: referralSourceSchema.optional(),
    childProtectionConcern: z.boolean(),
    localAuthority: code('localAuthority').optional(),
    team: code('team').optional(),
    managerId: code('managerId').optional(),
    policy: authorityPolicySchema.optional(),
    children: z
      .array(childSchema)
      .min(1, 'a referral names at least one child')
      .max(20)
      .refine((children) => new Set(children.map((child) => child.childRef)).size === children.length, {
        message: 'each childRef may appear once',
      }),
    /**
     * R-3 (section 10): the other children of the household the referral does not name for
     * assessment; each is considered: the manager starts an assessment or records why not.
     */
    otherHouseholdChildren: z
      .array(z.object({ childRef: childRefSchema, dateOfBirth: localDateSchema.optional() }).strict())
      .max(20)
      .optional(),
  })
  .strict()
  .refine(
    (referral) => {
      // Duplicates within children are named there; here, the other children against them and each other.
      const others = (referral.otherHouseholdChildren ?? []).map((child) => child.childRef);
      const named = new Set(referral.children.map((child) => child.childRef));
      return new Set(others).size === others.length && others.every((ref) => !named.has(ref));
    },
    { message: 'each childRef may appear once, in children or in otherHouseholdChildren', path: ['otherHouseholdChildren'] },
  );

export type ReferralInput = z.infer<typeof referralInputSchema>;
export type ReferralRequest = z.input<typeof referralInputSchema>;
export type Child = z.infer<typeof childSchema>;
