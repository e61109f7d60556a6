using Veltrix.Cli.Bots;

namespace Veltrix.EndToEnd.Tests;

public sealed class GameRulesTests
{
    [Theory]
    [InlineData(0, 4)]
    [InlineData(100, 14)]
    [InlineData(1_000, 104)]
    [InlineData(-50, 4)]
    public void MoveBudget_ElapsedClientTime_SpeedTimesTimePlusSlackLessOne(long elapsedMs, long expected) =>
        Assert.Equal(expected, GameRules.MoveBudget(elapsedMs));

    [Fact]
    public void StepToward_TargetInReach_LandsOnTarget()
    {
        var step = GameRules.StepToward(new Spot(500, 500), new Spot(503, 504), budget: 5);

        Assert.Equal(new Spot(503, 504), step);
    }

    [Fact]
    public void StepToward_ManyRandomSteps_NeverFartherThanBudgetAndAlwaysInBounds()
    {
        var random = new Random(1234);
        for (var i = 0; i < 20_000; i++)
        {
            var from = new Spot(random.Next(0, GameRules.WorldSize), random.Next(0, GameRules.WorldSize));
            var to = new Spot(random.Next(-1_000, GameRules.WorldSize + 1_000), random.Next(-1_000, GameRules.WorldSize + 1_000));
            var budget = random.Next(0, 200);

            var step = GameRules.StepToward(from, to, budget);

            Assert.True(Spot.Distance2(from, step) <= (long)budget * budget, $"{from} -> {to} budget {budget} gave {step}");
            Assert.True(GameRules.InBounds(step), $"{step} out of bounds");
        }
    }

    [Fact]
    public void StepToward_FarTarget_GetsCloserByAlmostTheBudget()
    {
        var from = new Spot(10_000, 10_000);
        var to = new Spot(20_000, 17_000);

        var step = GameRules.StepToward(from, to, budget: 100);

        var before = Math.Sqrt(Spot.Distance2(from, to));
        var after = Math.Sqrt(Spot.Distance2(step, to));
        Assert.InRange(before - after, 98, 100);
    }
}
