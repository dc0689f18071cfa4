import type { DataExportResolvers } from '../generated/graphql.ts';
import { asSeen } from '../data-export.ts';

export const DataExport: DataExportResolvers = {
  // A live update leaves the document out (live-updates.ts): read it when a subscriber asks for it.
  document: async (exportRow, _args, ctx) => {
    if (exportRow.document !== undefined) return exportRow.document;
    const row = await ctx.prisma.dataExport.findUnique({ where: { id: exportRow.id } });
    return row ? asSeen(row).document : null;
  },
  user: async (exportRow, _args, ctx) => (await ctx.loaders.userById.load(exportRow.userId))!,
};
