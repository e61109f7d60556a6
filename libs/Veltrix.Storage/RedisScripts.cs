namespace Veltrix.Storage;

/// <summary>
/// The Lua scripts behind <see cref="RedisPartitionStore"/>. A script runs atomically, so each one checks the
/// owner's epoch and then writes, with nothing in between. Redis does not roll back a script that fails half
/// way, so every check comes before the first write; after that the writes cannot fail (ids are known to be
/// in order, and Redis lets a script that has already written finish even when it runs out of memory).
/// Outcomes travel as <c>{status, value}</c> arrays rather than error replies so they parse without exceptions.
/// Numbers are Lua doubles: epochs and positions must stay below 2^53, which RedisPartitionStore checks.
/// </summary>
internal static class RedisScripts
{
    public const long Ok = 0;
    public const long Fenced = 1;
    public const long Refused = 2;

    /// <summary>
    /// KEYS: log, epoch. ARGV: epoch. Raises the stored epoch to ARGV[1] unless a higher one is stored, then
    /// reports the stream's shape: <c>{Ok, lastPosition, firstPosition, length}</c> or <c>{Fenced, ownerEpoch}</c>.
    /// XINFO is the only place that still knows the last id once every entry has been trimmed.
    /// </summary>
    public const string Open = """
        local epoch = tonumber(ARGV[1])
        local stored = redis.call('GET', KEYS[2])
        if stored then
          local owner = tonumber(stored)
          if owner > epoch then
            return {1, owner}
          end
          if owner < epoch then
            redis.call('SET', KEYS[2], ARGV[1])
          end
        else
          redis.call('SET', KEYS[2], ARGV[1])
        end
        if redis.call('EXISTS', KEYS[1]) == 0 then
          return {0, 0, 0, 0}
        end
        local info = redis.call('XINFO', 'STREAM', KEYS[1])
        local last, first, length = 0, 0, 0
        for i = 1, #info, 2 do
          local name = info[i]
          if name == 'length' then
            length = info[i + 1]
          elseif name == 'last-generated-id' then
            last = tonumber(string.match(info[i + 1], '^(%d+)'))
          elseif name == 'first-entry' and info[i + 1] then
            first = tonumber(string.match(info[i + 1][1], '^(%d+)'))
          end
        end
        return {0, last, first, length}
        """;

    /// <summary>
    /// KEYS: log, epoch. ARGV: epoch, first position, then data and CRC of each entry. Appends every entry with
    /// id <c>{position}-1</c> if the caller still owns the partition and the stream ends right before the first
    /// position: <c>{Ok, nextPosition}</c>, <c>{Fenced, ownerEpoch}</c> or <c>{Refused, actualNextPosition}</c>.
    /// XADD alone would reject a stale id but not a gap, and a gap means Redis lost acknowledged entries.
    /// </summary>
    public const string Append = """
        local owner = tonumber(redis.call('GET', KEYS[2]) or '-1')
        if owner ~= tonumber(ARGV[1]) then
          return {1, owner}
        end
        local last = 0
        local tail = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
        if #tail > 0 then
          last = tonumber(string.match(tail[1][1], '^(%d+)'))
        elseif redis.call('EXISTS', KEYS[1]) == 1 then
          local info = redis.call('XINFO', 'STREAM', KEYS[1])
          for i = 1, #info, 2 do
            if info[i] == 'last-generated-id' then
              last = tonumber(string.match(info[i + 1], '^(%d+)'))
            end
          end
        end
        local first = tonumber(ARGV[2])
        if last + 1 ~= first then
          return {2, last + 1}
        end
        local count = (#ARGV - 2) / 2
        for i = 0, count - 1 do
          redis.call('XADD', KEYS[1], string.format('%d-1', first + i), 'd', ARGV[3 + 2 * i], 'c', ARGV[4 + 2 * i])
        end
        return {0, first + count}
        """;

    /// <summary>
    /// KEYS: epoch, snapshot set, log, the new snapshot's hash. ARGV: epoch, position, state, CRC, snapshots kept,
    /// snapshot hash name prefix. Writes the snapshot if the caller still owns the partition and the position lies
    /// in the log (from its first entry to one past its last), then drops interior snapshots while more than kept
    /// are held, each time the one whose removal leaves the smallest gap (the older on a tie; see
    /// <see cref="SnapshotHistory.PickToDrop"/>): <c>{Ok, 0}</c>, <c>{Fenced, ownerEpoch}</c> or
    /// <c>{Refused, firstPosition, nextPosition}</c>. Checking the range here keeps a concurrent trim from leaving
    /// a snapshot behind the log's head. Dropped hashes are named from the prefix; they share the hash tag.
    /// </summary>
    public const string WriteSnapshot = """
        local owner = tonumber(redis.call('GET', KEYS[1]) or '-1')
        if owner ~= tonumber(ARGV[1]) then
          return {1, owner}
        end
        local first, last = 1, 0
        if redis.call('EXISTS', KEYS[3]) == 1 then
          local head = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
          if #head > 0 then
            first = tonumber(string.match(head[1][1], '^(%d+)'))
            last = tonumber(string.match(redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1][1], '^(%d+)'))
          else
            local info = redis.call('XINFO', 'STREAM', KEYS[3])
            for i = 1, #info, 2 do
              if info[i] == 'last-generated-id' then
                last = tonumber(string.match(info[i + 1], '^(%d+)'))
              end
            end
            first = last + 1
          end
        end
        local position = tonumber(ARGV[2])
        if position < first or position > last + 1 then
          return {2, first, last + 1}
        end
        redis.call('HSET', KEYS[4], 'p', ARGV[2], 's', ARGV[3], 'c', ARGV[4])
        redis.call('ZADD', KEYS[2], position, ARGV[2])
        local kept = tonumber(ARGV[5])
        if redis.call('ZCARD', KEYS[2]) > kept then
          local held = redis.call('ZRANGE', KEYS[2], 0, -1)
          while #held > kept do
            local drop, smallest = 2, nil
            for i = 2, #held - 1 do
              local gap = tonumber(held[i + 1]) - tonumber(held[i - 1])
              if smallest == nil or gap < smallest then
                drop, smallest = i, gap
              end
            end
            redis.call('DEL', ARGV[6] .. held[drop])
            redis.call('ZREM', KEYS[2], held[drop])
            table.remove(held, drop)
          end
        end
        return {0, 0}
        """;

    /// <summary>
    /// KEYS: epoch, snapshot set, log. ARGV: epoch, trim-before position, snapshot hash name prefix. Drops entries
    /// before the position, and every snapshot before it, unless that passes the newest snapshot:
    /// <c>{Ok, removed}</c>, <c>{Fenced, ownerEpoch}</c> or <c>{Refused, snapshotPosition or 0}</c>. The check runs
    /// here so a snapshot and a trim cannot interleave.
    /// </summary>
    public const string Trim = """
        local owner = tonumber(redis.call('GET', KEYS[1]) or '-1')
        if owner ~= tonumber(ARGV[1]) then
          return {1, owner}
        end
        local newest = redis.call('ZRANGE', KEYS[2], -1, -1)
        local snapshot = 0
        if #newest > 0 then
          snapshot = tonumber(newest[1])
        end
        if tonumber(ARGV[2]) > snapshot then
          return {2, snapshot}
        end
        local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])
        for i = 1, #stale do
          redis.call('DEL', ARGV[3] .. stale[i])
        end
        if #stale > 0 then
          redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])
        end
        return {0, redis.call('XTRIM', KEYS[3], 'MINID', ARGV[2])}
        """;
}
