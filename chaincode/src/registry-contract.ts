/**
 * The model registry, the chaincode's default contract: every transaction of the README's API table.
 * Each method only names the transaction and delegates to the module of its concern.
 */
import { Context, Contract, Info, Param, Returns, Transaction } from 'fabric-contract-api';
import { closeExpiredChange, proposeChange, voteChange } from './governance';
import { closeExpiredProposal, decideProposal } from './decisions';
import { submitProposal } from './proposals';
import * as queries from './queries';
import { createTask } from './tasks';
import { announceValidator, listValidators } from './validators';
import { castVote } from './votes';

@Info({ title: 'fedledger model registry', description: 'Tasks, proposals, votes, champions and their governance' })
export class RegistryContract extends Contract {
    constructor() {
        super('registry');
    }

    @Transaction()
    @Param('taskJson', 'string', 'the task as JSON: id, description, schema, metric, members, policy')
    @Returns('string')
    async CreateTask(ctx: Context, taskJson: string): Promise<string> {
        return createTask(ctx, taskJson);
    }

    @Transaction()
    @Param('proposalJson', 'string', 'the proposal as JSON: taskId, modelSha256, uri, sizeBytes, format, metrics, parent, round')
    @Returns('string')
    async SubmitProposal(ctx: Context, proposalJson: string): Promise<string> {
        return submitProposal(ctx, proposalJson);
    }

    @Transaction()
    @Param('voteJson', 'string', 'the vote as JSON: proposalId, decision, metrics, holdoutRows, evaluatorVersion, reason')
    @Returns('string')
    async CastVote(ctx: Context, voteJson: string): Promise<string> {
        return castVote(ctx, voteJson);
    }

    @Transaction()
    @Param('proposalId', 'string', 'the proposal id (p-…)')
    @Returns('string')
    async Decide(ctx: Context, proposalId: string): Promise<string> {
        return decideProposal(ctx, proposalId);
    }

    @Transaction()
    @Param('id', 'string', 'a proposal id (p-…) or a change id (c-…) whose voting period has ended')
    @Returns('string')
    async CloseExpired(ctx: Context, id: string): Promise<string> {
        return id.startsWith('c-') ? closeExpiredChange(ctx, id) : closeExpiredProposal(ctx, id);
    }

    @Transaction()
    @Param('changeJson', 'string', 'the change as JSON: taskId, type, policy, member, reason')
    @Returns('string')
    async ProposeChange(ctx: Context, changeJson: string): Promise<string> {
        return proposeChange(ctx, changeJson);
    }

    @Transaction()
    @Param('changeId', 'string', 'the change id (c-…)')
    @Param('decision', 'string', 'approve or reject')
    @Returns('string')
    async VoteChange(ctx: Context, changeId: string, decision: string): Promise<string> {
        return voteChange(ctx, changeId, decision);
    }

    @Transaction()
    @Param('announcementJson', 'string', 'the announcement as JSON: taskIds, evaluatorVersion; the organisation is the signer\'s')
    @Returns('string')
    async AnnounceValidator(ctx: Context, announcementJson: string): Promise<string> {
        return announceValidator(ctx, announcementJson);
    }

    @Transaction(false)
    @Param('taskId', 'string', 'the task whose validators to list')
    @Returns('string')
    async ListValidators(ctx: Context, taskId: string): Promise<string> {
        return listValidators(ctx, taskId);
    }

    @Transaction(false)
    @Returns('string')
    async GetTask(ctx: Context, taskId: string): Promise<string> {
        return queries.getTask(ctx, taskId);
    }

    @Transaction(false)
    @Param('queryJson', 'string', '"" or JSON: pageSize, bookmark')
    @Returns('string')
    async ListTasks(ctx: Context, queryJson: string): Promise<string> {
        return queries.listTasks(ctx, queryJson);
    }

    @Transaction(false)
    @Returns('string')
    async GetProposal(ctx: Context, proposalId: string): Promise<string> {
        return queries.getProposal(ctx, proposalId);
    }

    @Transaction(false)
    @Param('queryJson', 'string', '"" or JSON: taskId, status, proposer, pageSize, bookmark')
    @Returns('string')
    async ListProposals(ctx: Context, queryJson: string): Promise<string> {
        return queries.listProposals(ctx, queryJson);
    }

    @Transaction(false)
    @Returns('string')
    async GetVotes(ctx: Context, proposalId: string): Promise<string> {
        return queries.getVotes(ctx, proposalId);
    }

    @Transaction(false)
    @Returns('string')
    async GetChampion(ctx: Context, taskId: string): Promise<string> {
        return queries.getChampion(ctx, taskId);
    }

    @Transaction(false)
    @Returns('string')
    async GetChange(ctx: Context, changeId: string): Promise<string> {
        return queries.getChange(ctx, changeId);
    }

    @Transaction(false)
    @Param('queryJson', 'string', 'JSON: taskId, pageSize, bookmark')
    @Returns('string')
    async ListChanges(ctx: Context, queryJson: string): Promise<string> {
        return queries.listChanges(ctx, queryJson);
    }

    @Transaction(false)
    @Param('docType', 'string', 'task, proposal, champion or change')
    @Param('id', 'string', 'the task id (task, champion), proposal id or change id')
    @Returns('string')
    async GetHistory(ctx: Context, docType: string, id: string): Promise<string> {
        return queries.getHistory(ctx, docType, id);
    }
}
